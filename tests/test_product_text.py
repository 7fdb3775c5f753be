"""Product text speaks of the product only; settings are documented; the command line
starts light."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from servicegraph.settings import Settings
from servicegraph_api import create_app

from apikit import local_client, settings_for

ROOT = Path(__file__).resolve().parents[1]
#: Pointers outside the repository, and to the material it was made from.
FORBIDDEN = re.compile(r"(?i:\.\./|shared/|seed 00|\bseeds\b)|DESIGN\.md")
PRODUCT = ["README.md", "docs", "src", "api", "notebooks"]


def _offences(text: str) -> list[str]:
    return [m.group(0) for m in FORBIDDEN.finditer(text)]


def test_the_forbidden_pattern_catches_what_it_should() -> None:
    assert _offences("see ../shared/DESIGN.md and seed 00") == ["../", "shared/", "DESIGN.md",
                                                                "seed 00"]
    assert _offences("Seeded and vectorised; design.md") == []


def test_product_text_mentions_nothing_outside_the_repository() -> None:
    found = []
    for top in PRODUCT:
        paths = [ROOT / top] if (ROOT / top).is_file() else sorted((ROOT / top).rglob("*"))
        for path in paths:
            if path.is_file() and path.suffix in {".md", ".py", ".ipynb", ".yaml", ".txt"}:
                hits = _offences(path.read_text(encoding="utf-8", errors="replace"))
                found += [f"{path.relative_to(ROOT)}: {h}" for h in hits]
    assert found == []


def test_served_openapi_mentions_nothing_outside_the_repository(tmp_path: Path) -> None:
    with local_client(create_app(settings_for(tmp_path))) as client:
        spec = client.get("/openapi.json")
        model = client.get("/model.md")
    assert spec.status_code == 200
    assert _offences(spec.text) == []
    assert "/model.md" in spec.json()["info"]["description"]
    assert model.status_code == 200 and model.text.startswith("# The servicegraph model")


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{name}`" in doc and f"`SERVICEGRAPH_{name.upper()}`" in doc, name
    for variable in ("SERVICEGRAPH_NEO4J_HOME", "SERVICEGRAPH_SERVER", "SERVICEGRAPH_API_KEY"):
        assert variable in doc


def _loaded(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return set(out.stdout.split())


HEAVY = {"fastapi", "servicegraph_api", "numpy"}
REPORT = ("import sys; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")


def test_importing_the_library_and_asking_for_help_stay_light() -> None:
    assert not _loaded("import servicegraph; " + REPORT) & HEAVY
    for args in (["--help"], ["impact", "--help"], ["import", "--help"]):
        code = ("import sys, time; t = time.perf_counter(); from servicegraph.cli import main; "
                f"sys.argv = ['servicegraph', *{args!r}]\n"
                "try:\n    main()\nexcept SystemExit:\n    pass\n"
                "print(f'help {time.perf_counter() - t:.3f}s', file=sys.stderr); " + REPORT)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        print(args, out.stderr.strip().splitlines()[-1])  # the time, for the record
        loaded = set(out.stdout.split("\n")[-2].split())
        assert loaded and not loaded & HEAVY, loaded & HEAVY


def test_the_wheel_ships_the_model_the_api_serves(tmp_path: Path) -> None:
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(tmp_path), str(ROOT)], check=True)
    (wheel,) = tmp_path.glob("servicegraph-*.whl")
    shipped = zipfile.ZipFile(wheel).read("servicegraph/docs/model.md").decode()
    assert shipped == (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    names = zipfile.ZipFile(wheel).namelist()
    assert "servicegraph/cli/__main__.py" in names
    assert "servicegraph/importers/backstage.py" in names
