"""The command line (typer). The only package that imports typer or turns errors into exit codes."""
