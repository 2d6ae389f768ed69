#!/usr/bin/env python3
"""Writes template-image.yaml: template.yaml with the functions packaged as container images
(Dockerfile.lambda, one image per function) instead of zips. Only the packaging changes —
Globals lose Runtime, Handler and CodeUri; each function's Metadata names the Dockerfile and its
FUNCTION build argument, and its Properties say `PackageType: Image` — so the two templates
cannot drift: scripts/check-template.py fails when template-image.yaml is not what this writes.
`python3 scripts/image-template.py [--check]`."""
import re
import sys

HEADER = ("# Generated from template.yaml by scripts/image-template.py (do not edit): the same stack,\n"
          "# each function a container image built from Dockerfile.lambda. Deploy with\n"
          "#   sam build --config-env image && sam deploy --config-env image\n")


def image_template(text: str) -> str:
    for line in ("    Runtime: provided.al2023\n", "    Handler: bootstrap\n", "    CodeUri: .\n"):
        if text.count(line) != 1:
            sys.exit(f"image-template: expected one `{line.strip()}` in the Globals of template.yaml")
        text = text.replace(line, "")
    packaged = re.compile(r"      BuildMethod: rust-cargolambda\n      BuildProperties:\n"
                          r"        Binary: ([a-z-]+)\n    Properties:\n")
    text, functions = packaged.subn(
        lambda m: ("      Dockerfile: Dockerfile.lambda\n      DockerContext: .\n"
                   f"      DockerTag: {m[1]}\n      DockerBuildArgs:\n        FUNCTION: {m[1]}\n"
                   "    Properties:\n      PackageType: Image\n"),
        text)
    if functions != 3:
        sys.exit(f"image-template: expected 3 rust-cargolambda functions, found {functions}")
    return HEADER + text


if __name__ == "__main__":
    with open("template.yaml") as f:
        wanted = image_template(f.read())
    if sys.argv[1:] == ["--check"]:
        with open("template-image.yaml") as f:
            if f.read() != wanted:
                sys.exit("image-template: template-image.yaml is out of date; run python3 scripts/image-template.py")
    else:
        with open("template-image.yaml", "w") as f:
            f.write(wanted)
