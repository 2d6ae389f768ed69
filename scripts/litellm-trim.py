#!/usr/bin/env python3
"""Trims LiteLLM's community price table to the first-party chat models of the providers the
catalog prices (Anthropic, OpenAI, Moonshot), as test data for tests/tests/litellm_prices.rs.

    pip download litellm==1.110.2 --no-deps -d /tmp/litellm
    scripts/litellm-trim.py /tmp/litellm/litellm-1.110.2-*.whl > tests/fixtures/litellm/first_party_chat.json

Prices keep the table's own decimal text ("2e-06"): they are never read as floats.
"""
import json
import re
import sys
import zipfile

TABLE = "litellm/model_prices_and_context_window_backup.json"
PROVIDERS = ("anthropic", "openai", "moonshot")


def main(wheel: str) -> None:
    version = re.search(r"litellm-([0-9.]+)-", wheel)
    with zipfile.ZipFile(wheel) as z:
        # parse_float=str keeps each number's text exactly as the table writes it.
        table = json.loads(z.read(TABLE), parse_float=str, parse_int=str)
    entries = {}
    for key, entry in table.items():
        if not isinstance(entry, dict) or entry.get("mode") != "chat":
            continue
        provider = entry.get("litellm_provider")
        if provider not in PROVIDERS:
            continue
        name = key[len(provider) + 1:] if key.startswith(provider + "/") else key
        if "/" in name:
            continue  # a route through another host, not the provider's own id
        kept = {"litellm_provider": provider}
        kept.update({k: v for k, v in entry.items() if "cost" in k and isinstance(v, str)})
        entries[key] = kept
    json.dump(
        {
            "package": f"litellm {version.group(1) if version else '?'} (PyPI)",
            "file": TABLE,
            "selection": "mode chat, litellm_provider anthropic/openai/moonshot, the provider's own ids",
            "entries": dict(sorted(entries.items())),
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
