"""``python -m labkit`` (and the ``labkit`` command) runs the command line.

The image commands (``build``, ``inspect``, ``extract``) need only ``labkit.oci``: for
them the full command line, and with it the rest of labkit (the engine's SDK, the
lessons, the class server), is not loaded. ``labkit inspect`` of a 1 GiB image then
stays within 10 % of one ``openssl dgst -sha256`` of the file (bench/bench_inspect.py);
loading everything first made it 1.3 times as slow.
"""
import sys

from labkit.oci.cli import COMMANDS, main

if sys.argv[1:2] == [] or sys.argv[1] not in COMMANDS:   # chosen at load time, not in a function
    from labkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
