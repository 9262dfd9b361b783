"""A PEP 517/660 build backend of a few lines for the kb library.

The editable wheel puts the library's directory on sys.path (kb.pth) and
records when it was built (kb_stamp.AT): the engine tests read it to tell
an install that ran again from one the engine kept in its cache.
"""

import base64
import hashlib
import os
import time
import zipfile

NAME, VERSION = "kb", "1.0"
HERE = os.path.dirname(os.path.abspath(__file__))


def _wheel(directory, files):
    dist = "%s-%s.dist-info" % (NAME, VERSION)
    files = dict(files, **{"kb_stamp.py": "AT = %d\n" % time.time_ns()})
    files[dist + "/METADATA"] = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (NAME, VERSION)
    files[dist + "/WHEEL"] = "Wheel-Version: 1.0\nGenerator: kb_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    files[dist + "/RECORD"] = "\n".join(record + [dist + "/RECORD,,"]) + "\n"
    filename = "%s-%s-py3-none-any.whl" % (NAME, VERSION)
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return filename


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {"kb.pth": HERE + "\n"})


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.path.join(HERE, "kb", "__init__.py")) as f:
        return _wheel(wheel_directory, {"kb/__init__.py": f.read()})


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_editable = get_requires_for_build_wheel
