"""``python -m runtime.jobs JOB --option=value ...``: run one job in this process (see :mod:`runtime.jobs.child`)."""

from runtime.jobs.child import main

if __name__ == "__main__":
    raise SystemExit(main())
