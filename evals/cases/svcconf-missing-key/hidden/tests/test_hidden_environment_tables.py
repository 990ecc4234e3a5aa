from svcconf.loader import load


def write(path, text):
    path.write_text(text)
    return path


def test_file_without_environment_tables(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nworkers = 8\n[database]\npool_size = 30\n")
    settings = load(path, environ={"SVC_ENV": "production"})
    assert settings.server.workers == 8
    assert settings.database.pool_size == 30


def test_no_table_for_this_environment(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nworkers = 8\n[env.staging.server]\nworkers = 1\n")
    assert load(path, environ={"SVC_ENV": "production"}).server.workers == 8


def test_table_for_this_environment_applies(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nworkers = 8\n[env.production.server]\nworkers = 16\n")
    assert load(path, environ={"SVC_ENV": "production"}).server.workers == 16
