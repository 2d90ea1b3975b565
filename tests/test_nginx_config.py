"""The reverse proxy's configuration in the repository (deploy/nginx.conf) passes `nginx -t`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_agnostic  # no database: the SQLite pass runs it

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
# What an operator adjusts (the lines marked "here") or what only root may open, and where the test
# puts it instead: the rest of the file is checked exactly as shipped.
LETSENCRYPT = "/etc/letsencrypt/live/comments.example.org/"
ACCESS_LOG = "/var/log/nginx/comments.access.log"


def tool(name: str) -> str:
    """The path of a program the test needs; skipped (failed in CI) when it is missing."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing in CI: bin/test should have installed it")
        pytest.skip(f"{name} not installed (bin/test installs it as root)")
    return found


def self_signed_certificate(folder: Path) -> None:
    """A throw-away key and certificate for comments.example.org, where nginx -t will load them."""
    subprocess.run([tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=comments.example.org", "-keyout", str(folder / "privkey.pem"),
                    "-out", str(folder / "fullchain.pem")], check=True, capture_output=True, timeout=60)


def site_config(folder: Path) -> Path:
    """deploy/nginx.conf with the certificate and log paths moved into FOLDER."""
    text = CONFIG.read_text()
    assert LETSENCRYPT in text and ACCESS_LOG in text, "the test's substitutions no longer match the file"
    path = folder / "comments.conf"
    path.write_text(text.replace(LETSENCRYPT, f"{folder}/").replace(ACCESS_LOG, f"{folder}/access.log"))
    return path


def main_config(folder: Path, site: Path) -> Path:
    """What /etc/nginx/nginx.conf gives the site file (conf.d is included inside `http`), in FOLDER."""
    path = folder / "nginx.conf"
    path.write_text(f"""
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
    access_log {folder}/default-access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {site};
}}
""")
    return path


def test_the_shipped_nginx_config_passes_nginx_t(tmp_path):
    nginx = tool("nginx")
    self_signed_certificate(tmp_path)
    config = main_config(tmp_path, site_config(tmp_path))
    result = subprocess.run([nginx, "-t", "-p", f"{tmp_path}/", "-e", str(tmp_path / "error.log"),
                             "-c", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
