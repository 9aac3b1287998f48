"""The worker side: runs inside the sandboxed worker process, beside the student's code.

Nothing here is trusted by the checker: every answer is validated on the trusted side.
"""
