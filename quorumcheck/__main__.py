"""``python -m quorumcheck`` runs the command line."""

from quorumcheck.entry import run

if __name__ == "__main__":
    run()
