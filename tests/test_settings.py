"""Settings precedence (env > TOML file > keyring) and the headless keyring fallback."""

import keyring
import pytest
from keyring.backends.fail import Keyring as NoKeyring

from config import MissingSecret, Secret, SettingsError, load_settings
from config.settings import default_database_url


def write_toml(tmp_path, text):
    path = tmp_path / "ofisi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_point_at_user_data_dir(tmp_path):
    settings = load_settings({})
    assert settings.database_url == default_database_url()
    assert str(tmp_path / "xdg" / "data") in settings.database_url
    assert settings.sms_provider == "log"


def test_env_beats_file_beats_default(tmp_path):
    path = write_toml(tmp_path, 'database_url = "sqlite:///from-file.db"\npublic_url = "https://file.example"\n'
                                'send_batch_size = 7\n')
    settings = load_settings({"OFISI_CONFIG": str(path), "OFISI_PUBLIC_URL": "https://env.example"})
    assert settings.public_url == "https://env.example"
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.send_batch_size == 7
    assert settings.config_path == path


def test_file_in_platform_config_dir_is_read(tmp_path):
    config_dir = tmp_path / "xdg" / "config" / "ofisi"
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('at_username = "mychama"\n')
    assert load_settings({}).at_username == "mychama"


def test_secret_precedence_env_then_file_then_keyring(tmp_path, isolated_environment):
    keyring.set_password("ofisi", "at_api_key", "from-keyring")
    assert load_settings({}).secret("at_api_key").reveal() == "from-keyring"
    assert load_settings({}).secret_origin("at_api_key") == "OS keyring"
    path = write_toml(tmp_path, 'at_api_key = "from-file"\n')
    assert load_settings({"OFISI_CONFIG": str(path)}).secret("at_api_key").reveal() == "from-file"
    env = {"OFISI_CONFIG": str(path), "OFISI_AT_API_KEY": "from-env"}
    assert load_settings(env).secret("OFISI_AT_API_KEY").reveal() == "from-env"
    assert load_settings(env).secret_origin("at_api_key") == "environment"


def test_headless_machine_without_keyring_falls_back_to_env():
    keyring.set_keyring(NoKeyring())
    assert load_settings({"OFISI_AT_API_KEY": "k"}).secret("at_api_key").reveal() == "k"
    with pytest.raises(MissingSecret) as info:
        load_settings({}).secret("at_api_key")
    message = str(info.value)
    assert "OFISI_AT_API_KEY" in message and "ofisi secrets set at_api_key" in message
    assert "Traceback" not in message


def test_broken_keyring_backend_is_treated_as_empty():
    class Broken(NoKeyring):
        priority = 1

        def get_password(self, service, username):
            raise RuntimeError("dbus exploded")

    keyring.set_keyring(Broken())
    assert load_settings({}).secret("whatsapp_token", required=False) is None


def test_secrets_hide_themselves():
    settings = load_settings({"OFISI_AT_API_KEY": "s3cr3t-value"})
    secret = settings.secret("at_api_key")
    assert isinstance(secret, Secret)
    for text in (repr(secret), str(secret), f"{secret}", repr(settings)):
        assert "s3cr3t-value" not in text


@pytest.mark.parametrize("env, needle", [
    ({"OFISI_SMS_PROVIDER": "carrier-pigeon"}, "OFISI_SMS_PROVIDER"),
    ({"OFISI_SEND_BATCH_SIZE": "lots"}, "OFISI_SEND_BATCH_SIZE"),
    ({"OFISI_CONFIG": "/nonexistent/ofisi.toml"}, "does not exist"),
])
def test_bad_settings_say_what_to_fix(env, needle):
    with pytest.raises(SettingsError, match=needle):
        load_settings(env)


def test_unknown_secret_name_lists_known_ones():
    with pytest.raises(SettingsError, match="at_api_key"):
        load_settings({}).secret("bank_pin")
