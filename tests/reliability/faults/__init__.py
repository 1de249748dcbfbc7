"""Fault injection for the crash tests, loaded only into the subprocesses they start (see
subprocess_settings.py). Each SQL statement containing YIXIANG_FAULTS is logged to
YIXIANG_FAULTS_LOG; the YIXIANG_FAULTS_AT-th one then stalls for YIXIANG_FAULTS_SLEEP seconds inside
the job's open transaction, so the test can SIGKILL the worker at a known point. Production code
has no hook for this."""
