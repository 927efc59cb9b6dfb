"""Manifest parsing: wasm sources, hashes, names, limits, and the exact error messages."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from extism_kernel.host import Manifest, ManifestError, Plugin
from extism_kernel.host._manifest import (
    DEFAULT_MAX_HTTP_RESPONSE_BYTES,
    DEFAULT_MAX_VAR_BYTES,
    load_manifest,
)

from tests.host_plugins import plugin_wasm, wat_source


def echo_b64() -> str:
    return base64.b64encode(plugin_wasm("echo")).decode()


def test_sources_all_load_the_same_module(tmp_path):
    wasm = plugin_wasm("echo")
    path = tmp_path / "echo.wasm"
    path.write_bytes(wasm)
    json_manifest = json.dumps({"wasm": [{"data": echo_b64()}]})
    manifest_file = tmp_path / "manifest.json"
    manifest_file.write_text(json.dumps({"wasm": [{"path": str(path)}]}))
    for source in (
        wasm,
        str(path),
        path,
        {"wasm": [{"data": wasm}]},
        json_manifest,
        json_manifest.encode(),
        manifest_file,
        wat_source("echo").encode(),
    ):
        assert Plugin(source).call("echo", b"same") == b"same", source


def test_hash_checked():
    wasm = plugin_wasm("echo")
    good = hashlib.sha256(wasm).hexdigest()
    assert load_manifest({"wasm": [{"data": wasm, "hash": good}]}).wasm[0].data == wasm
    with pytest.raises(ManifestError) as info:
        load_manifest({"wasm": [{"data": wasm, "hash": "0" * 64}]})
    assert str(info.value) == (
        f"manifest: wasm[0]: hash mismatch for `data`: found {good} but expected {'0' * 64}"
    )


def test_defaults():
    manifest = load_manifest(plugin_wasm("echo"))
    assert manifest.memory.var_bytes == DEFAULT_MAX_VAR_BYTES
    assert manifest.memory.http_response_bytes == DEFAULT_MAX_HTTP_RESPONSE_BYTES
    assert manifest.memory.max_pages is None
    assert manifest.allowed_hosts is None
    assert manifest.timeout_ms is None


def test_full_manifest():
    manifest = Manifest.from_dict(
        {
            "wasm": [{"data": echo_b64(), "name": "main"}],
            "memory": {"max_pages": 4, "max_http_response_bytes": 10, "max_var_bytes": 20},
            "config": {"k": "v"},
            "allowed_hosts": ["example.com"],
            "allowed_paths": {"ro:/tmp": "/data"},
            "timeout_ms": 5,
        }
    )
    assert (
        manifest.memory.max_pages,
        manifest.memory.http_response_bytes,
        manifest.memory.var_bytes,
    ) == (4, 10, 20)
    assert manifest.config == {"k": "v"}
    assert manifest.allowed_hosts == ("example.com",)
    assert manifest.allowed_paths == {"ro:/tmp": "/data"}
    assert manifest.timeout_ms == 5


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"invalid_manifest": True}, "manifest: unknown key `invalid_manifest`"),
        ({"wasm": []}, "manifest: `wasm` lists no module"),
        ({"wasm": [{"name": "x"}]}, "manifest: wasm[0]: needs one of `path`, `data` or `url`"),
        ({"wasm": [{"data": "%%%"}]}, "manifest: wasm[0]: `data` is not valid base64"),
        ({"wasm": [{"data": "AA==", "size": 1}]}, "manifest: wasm[0]: unknown key `size`"),
        (
            {"wasm": [{"data": "AA=="}], "memory": {"max_page": 1}},
            "manifest: memory: unknown key `max_page`",
        ),
        (
            {"wasm": [{"data": "AA=="}], "timeout_ms": "5"},
            "manifest: `timeout_ms` must be int but found str",
        ),
        (
            {"wasm": [{"data": "AA=="}], "memory": {"max_pages": -1}},
            "manifest: memory: `max_pages` must not be negative but found -1",
        ),
        (
            {"wasm": [{"data": "AA=="}], "timeout_ms": -1},
            "manifest: `timeout_ms` must not be negative but found -1",
        ),
        (
            {"wasm": [{"data": "AA=="}], "config": {"k": 1}},
            "manifest: `config` maps strings to strings but found 'k': 1",
        ),
        (
            {"wasm": [{"url": "ftp://x/y.wasm"}]},
            "manifest: wasm[0]: `url` must be http or https but found `ftp://x/y.wasm`",
        ),
        (b"not a manifest", None),
        (42, "plugin: expected bytes, a path, a dict or a Manifest but found int"),
    ],
)
def test_errors(source, message):
    with pytest.raises(ManifestError) as info:
        load_manifest(source)
    if message is None:
        assert str(info.value).startswith("manifest: not wasm, WAT or a JSON manifest")
    else:
        assert str(info.value) == message


def test_missing_path():
    with pytest.raises(
        ManifestError, match=r"manifest: wasm\[0\]: cannot read wasm file `/no/such.wasm`"
    ):
        load_manifest({"wasm": [{"path": "/no/such.wasm"}]})


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["solo"], ["main"]),  # a single module is always main
        (["lib", None], ["lib", "main"]),
        (["lib", "other"], ["lib", "main"]),  # the last one becomes main
        (["main", "lib"], ["lib", "main"]),  # main is linked last
    ],
)
def test_module_names(names, expected):
    manifest = load_manifest(
        {"wasm": [{"data": b"\0asm", "name": n} if n else {"data": b"\0asm"} for n in names]}
    )
    assert [name for name, _ in manifest.named_modules()] == expected


def test_duplicate_module_names():
    entries = [{"data": b"\0asm", "name": n} for n in ("a", "a", "b")]
    manifest = load_manifest({"wasm": entries})
    with pytest.raises(ManifestError, match="manifest: duplicate module name `a`"):
        manifest.named_modules()


def test_config_keyword_merges_over_manifest():
    manifest = load_manifest({"wasm": [{"data": b"\0asm"}], "config": {"a": "1", "b": "2"}})
    assert dict(manifest.with_config({"b": "3"}).config) == {"a": "1", "b": "3"}
