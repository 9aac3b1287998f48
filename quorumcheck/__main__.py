"""``python -m quorumcheck`` runs the command line."""

from quorumcheck.cli import run

if __name__ == "__main__":
    run()
