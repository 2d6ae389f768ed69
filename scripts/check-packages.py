#!/usr/bin/env python3
"""Checks what `make package` built: a bootstrap.zip for every function of template.yaml,
each holding exactly one executable aarch64 ELF file named `bootstrap`, at most 10 MB.
Prints each zip's path and sizes. Usage: check-packages.py LAMBDA_DIR BIN..."""
import pathlib
import re
import sys
import zipfile

EM_AARCH64 = 183
MAX_ZIP_BYTES = 10 * 1000 * 1000


def check(zip_path: pathlib.Path) -> tuple[list[str], int]:
    """Problems found in one package, and the size of its bootstrap."""
    if not zip_path.is_file():
        return [f"{zip_path} is missing"], 0
    with zipfile.ZipFile(zip_path) as archive:
        entries = archive.infolist()
        if [e.filename for e in entries] != ["bootstrap"]:
            return [f"{zip_path} holds {[e.filename for e in entries]}, not just bootstrap"], 0
        entry = entries[0]
        header = archive.open(entry).read(20)
    problems = []
    if (entry.external_attr >> 16) & 0o111 == 0:
        problems.append(f"{zip_path}: bootstrap is not executable")
    if header[:4] != b"\x7fELF" or header[4] != 2:
        problems.append(f"{zip_path}: bootstrap is not a 64-bit ELF file")
    elif int.from_bytes(header[18:20], "little") != EM_AARCH64:
        problems.append(f"{zip_path}: bootstrap is not built for aarch64 (arm64)")
    if zip_path.stat().st_size > MAX_ZIP_BYTES:
        problems.append(f"{zip_path} is larger than {MAX_ZIP_BYTES} bytes")
    return problems, entry.file_size


def main() -> int:
    lambda_dir, built = pathlib.Path(sys.argv[1]), sys.argv[2:]
    template = pathlib.Path("template.yaml").read_text()
    declared = re.findall(r"^\s+Binary:\s*(\S+)\s*$", template, re.MULTILINE)
    problems = []
    if sorted(declared) != sorted(built):
        problems.append(f"template.yaml's functions {declared} are not the packaged ones {built}")
    for name in declared:
        zip_path = lambda_dir / name / "bootstrap.zip"
        found, unpacked = check(zip_path)
        problems += found
        if not found:
            size = zip_path.stat().st_size
            print(f"{name:<10} {size / 1e6:4.1f} MB zip ({size} bytes), "
                  f"bootstrap {unpacked / 1e6:4.1f} MB, aarch64  {zip_path}")
    for problem in problems:
        print(f"check-packages: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
