""".ci/laptop-like's first check: the simulated laptop is what it claims to be."""
import shutil

import labkit
from labkit import fleet, hello, host

here = host.current()
found = {c: shutil.which(c) for c in ("gcc", "cc", "musl-gcc", "clang", "docker", "busybox")}
assert not any(found.values()), f"not hidden: {found}"
assert here.simulated and not here.linux, here
assert labkit.mode() == "offline", "a Docker engine answered"
assert fleet.endpoints() == {}, "fleet engines answer"
assert all(why for variant, why in hello.available().items() if variant != "tiny")
print(f"laptop-like: {here.summary()}, no engine, no compiler, no busybox, labkit {labkit.__version__}")
