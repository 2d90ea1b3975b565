from classifiers.cli import main

# Guarded: encoding on every core starts worker processes that import this module again.
if __name__ == "__main__":
    main(prog_name="python -m classifiers")
