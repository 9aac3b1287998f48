"""The trusted side: starts and talks to sandboxed workers; never imports student code."""
