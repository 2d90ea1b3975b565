from classifiers.cli import main

main(prog_name="python -m classifiers")
