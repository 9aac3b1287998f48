"""``python -m quorumcheck`` runs the command line."""

from quorumcheck.cli import main

if __name__ == "__main__":
    main(prog_name="quorumcheck")
