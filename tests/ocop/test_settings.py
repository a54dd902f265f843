from __future__ import annotations

from pathlib import Path

import pytest

from ocop.settings import SettingsError, load_settings


def test_defaults_put_everything_under_var() -> None:
    s = load_settings({})
    assert s.effective_database_url == f"sqlite:///{Path('var/ocop.db').resolve()}"
    assert s.effective_media_dir == Path("var/media")
    assert s.embedded_redis and s.is_sqlite and not s.secure_cookies


def test_environment_values_are_typed() -> None:
    s = load_settings({"OCOP_DATABASE_URL": "postgresql://u@h/db", "OCOP_REDIS_URL": "redis://r:6379/0",
                       "OCOP_PORT": "9000", "OCOP_LOG_JSON": "true", "OCOP_MEDIA_DIR": "/srv/media",
                       "OCOP_BASE_URL": "https://ocop.gialai.gov.vn", "UNRELATED": "x"})
    assert (s.port, s.log_json, s.media_dir) == (9000, True, Path("/srv/media"))
    assert not s.embedded_redis and not s.is_sqlite and s.secure_cookies


@pytest.mark.parametrize("env", [{"OCOP_PORT": "eighty"}, {"OCOP_LOG_JSON": "maybe"},
                                 {"OCOP_DATABASE_URL": "mysql://x/y"}])
def test_bad_values_are_refused_at_start(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(env)


def test_generated_secret_is_kept_private_and_stable(tmp_path: Path) -> None:
    s = load_settings({"OCOP_VAR_DIR": str(tmp_path)})
    key = s.resolved_secret_key()
    assert len(key) >= 48 and s.resolved_secret_key() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_an_unset_base_url_follows_the_served_port() -> None:
    assert load_settings({}).listening_on("0.0.0.0", 9000).base_url == "http://127.0.0.1:9000"
    configured = load_settings({"OCOP_BASE_URL": "https://ocop.gialai.gov.vn"}).listening_on("0.0.0.0", 9000)
    assert configured.base_url == "https://ocop.gialai.gov.vn" and configured.port == 9000
