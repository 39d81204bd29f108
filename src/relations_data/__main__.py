"""``python -m relations_data`` runs the command-line interface."""

from relations_data.cli import main

if __name__ == "__main__":
    main(prog_name="relations-data")
