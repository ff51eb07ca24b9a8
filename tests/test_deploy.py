"""deploy/ agrees with the code: every setting documented, paths and ports consistent.

Docker is not available to build the image here, so these read the files and check
them against `Settings` (the one reader of the environment) and the health endpoint.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import REPO_ROOT, Settings
from bot.health import HEALTH_PATH, parse_listen

DEPLOY = REPO_ROOT / "deploy"


class _Recorder(dict[str, str]):
    """An environment that remembers every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.append(key)
        return super().get(key, default)


@pytest.fixture(scope="module")
def setting_names() -> set[str]:
    env = _Recorder()
    Settings.from_env(env, dotenv=False)
    assert len(env.asked) >= 11
    return set(env.asked)


def _env_example() -> dict[str, str]:
    """name -> the comment block above it, for every NAME= or # NAME= line."""
    out: dict[str, str] = {}
    comment: list[str] = []
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=(.*)$", line)
        if m:
            out[m.group(1)] = " ".join(comment)
            continue
        comment = [*comment, line.lstrip("# ")] if line.startswith("#") else []
    return out


def _dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _docker_env() -> dict[str, str]:
    env = {}
    for op, arg in _dockerfile():
        if op == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", arg)))
    return env


def _unit() -> list[tuple[str, str]]:
    lines = (DEPLOY / "coachbot.service").read_text().splitlines()
    return [tuple(line.split("=", 1)) for line in lines if "=" in line and not line.startswith("#")]  # type: ignore[misc]


def test_env_example_documents_exactly_the_settings_read(setting_names: set[str]) -> None:
    documented = _env_example()
    assert set(documented) == setting_names
    for name, comment in documented.items():
        assert len(comment) > 20, f"{name} needs a comment saying what it does"


def test_both_readmes_list_every_setting(setting_names: set[str]) -> None:
    table = (REPO_ROOT / "README.md").read_text()
    for name in setting_names:
        assert f"| `{name}` |" in table, f"README.md settings table lacks {name}"
    operator = (DEPLOY / "README.md").read_text()
    for must in (
        "/setinline",
        "/setprivacy",
        "coachbot backup",
        "coachbot health",
        "nginx",
        "caddy",
        HEALTH_PATH,
    ):
        assert must in operator


def test_dockerfile_is_slim_non_root_baked_and_healthchecked(setting_names: set[str]) -> None:
    steps = _dockerfile()
    ops = [op for op, _ in steps]
    base = next(arg for op, arg in steps if op == "FROM")
    assert re.fullmatch(r"python:3\.\d+-slim", base)
    user = [arg for op, arg in steps if op == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert ops.index("USER") > max(i for i, op in enumerate(ops) if op == "RUN"), "runs as root only to build"
    copied = {arg.split()[0] for op, arg in steps if op == "COPY"}
    for part in ("bot", "playbooks", "scenarios", "checks", "pyproject.toml"):
        assert part in copied
    env = _docker_env()
    assert {k for k in env if k.startswith(("COACHBOT_", "TELEGRAM_"))} <= setting_names
    volume = next(arg for op, arg in steps if op == "VOLUME").strip('[]"')
    assert Path(env["COACHBOT_DB"]).parent == Path(volume)
    host, port = parse_listen(env["COACHBOT_WEBHOOK_LISTEN"])
    assert host == "0.0.0.0" and f"EXPOSE {port}" in [f"{op} {arg}" for op, arg in steps]
    health = next(arg for op, arg in steps if op == "HEALTHCHECK")
    assert health.endswith('CMD ["coachbot", "health"]')
    assert next(arg for op, arg in reversed(steps) if op == "CMD") == '["coachbot", "run"]'


def test_compose_builds_that_image_with_the_database_on_a_volume(setting_names: set[str]) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    service = compose["services"]["coachbot"]
    build = service["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert service["env_file"] == ".env"
    env = service["environment"]
    assert set(env) <= setting_names
    volume, mount = service["volumes"][0].split(":")
    assert volume in compose["volumes"]
    assert Path(env["COACHBOT_DB"]).parent == Path(mount) == Path(_docker_env()["COACHBOT_DB"]).parent
    _, port = parse_listen(env["COACHBOT_WEBHOOK_LISTEN"])
    published = service["ports"][0].split(":")
    assert published[0] == "127.0.0.1" and published[-1] == str(port), "only the local proxy reaches it"
    assert service["restart"] in ("always", "unless-stopped")


def test_systemd_unit_runs_the_bot_unprivileged_with_the_env_file(setting_names: set[str]) -> None:
    unit = _unit()
    keys = dict(unit)
    assert keys["ExecStart"].endswith("/coachbot run")
    assert keys["User"] not in ("root", "0")
    assert keys["Restart"] in ("always", "on-failure")
    assert keys["EnvironmentFile"]
    env = dict(value.split("=", 1) for key, value in unit if key == "Environment")
    assert set(env) <= setting_names
    state = Path("/var/lib") / keys["StateDirectory"]
    assert Path(env["COACHBOT_DB"]).parent == state == Path(keys["WorkingDirectory"])
    assert keys["ProtectSystem"] == "strict", "the bot writes only its state directory"
