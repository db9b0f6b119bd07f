# The fuzzer's command line and the programs it found are not test modules.
collect_ignore = ["run.py"]
collect_ignore_glob = ["found/*", "out/*"]
