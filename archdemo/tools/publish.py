"""Push the bundled weights to the Hugging Face Hub, one repo per model.

    python -m archdemo.publish --repo-id ORG/archdemo     # -> ORG/archdemo-cnn, ORG/archdemo-autoencoder, ...

One repo per model rather than subfolders of one repo: each model then has its own model card,
pipeline tag, widget and download count on the Hub, and its own commit history, so a new CNN does
not change the revision the app pins for the RNN. Prints each push's commit hash and the line that
pins it (``ARCHDEMO_<NAME>_WEIGHTS=hub:REPO@COMMIT``, or the revision in archdemo/registry.py).
Needs a write token (``huggingface-cli login`` or $HF_TOKEN).
"""

from __future__ import annotations

import argparse

from archdemo.paths import BUNDLED_DIR, CARD_NAME, CONFIG_NAME, WEIGHTS_NAME
from archdemo.weights.hub import REPO_ID
from archdemo.weights.registry import MODELS


def repo_for(prefix: str, name: str) -> str:
    return f"{prefix}-{name}"


def publish(prefix: str, names: list[str], private: bool = False, api=None) -> dict[str, str]:
    """Upload weights/<name>/ for each name; returns {name: commit hash}."""
    from huggingface_hub import HfApi

    api = api or HfApi(library_name="archdemo")
    commits = {}
    for name in names:
        folder = BUNDLED_DIR / name
        missing = [f for f in (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME) if not (folder / f).is_file()]
        if missing:
            raise SystemExit(f"{folder} lacks {', '.join(missing)}: train and evaluate first")
        repo = repo_for(prefix, name)
        api.create_repo(repo, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo,
            folder_path=str(folder),
            allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME],
            commit_message=f"archdemo {name}: config, safetensors weights and model card",
        )
        commits[name] = info.oid
    return commits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m archdemo.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--repo-id", required=True, help="ORG/NAME: models go to ORG/NAME-<model>")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset (default: all four)")
    parser.add_argument("--private", action="store_true")
    args = parser.parse_args(argv)
    if not REPO_ID.match(args.repo_id):
        parser.error(f"--repo-id must look like ORG/NAME, got {args.repo_id!r}")
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {', '.join(MODELS)}")
    for name, commit in publish(args.repo_id, names, args.private).items():
        repo = repo_for(args.repo_id, name)
        print(f"{name}: https://huggingface.co/{repo}/tree/{commit}")
        print(f"  pin: ARCHDEMO_{name.upper()}_WEIGHTS=hub:{repo}@{commit}")


if __name__ == "__main__":
    main()
