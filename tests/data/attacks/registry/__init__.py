"""A sub-package of the submission: its globals are state outside the node too."""
