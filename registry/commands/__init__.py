"""One module per `registry` sub-command: add_arguments(parser) and run(args) -> exit code.

Modules import their heavy dependencies inside run(), so `registry --help` stays fast.
"""
