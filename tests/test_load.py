"""THE LOAD TEST (issue 10): browser-less sessions read the dashboard while officers save.

A small, bounded run of ``benchmarks/load.py`` (the same code): a real ``streamlit run app.py``
on 127.0.0.1 with its own workspace, warmed once, then 4 concurrent sessions, each one websocket
speaking Streamlit's protocol (``BackMsg.rerun_script`` per page, ForwardMsgs up to
``script_finished``), load 3 pages (the Wetlands page reads the workspace on every run) while 2
officer processes keep loading, editing and saving versions of a layer in the same workspace
GeoPackage. Deadline 300 s. Asserts: no error element, every page of every session finished (and
was the page asked for), ``/_stcore/health`` still ok, the officers saved, ``Workspace.verify()``
finds nothing, no acknowledged version or row is lost. Prints the figures; asserts no clock (the
figures for the README come from ``benchmarks/load.py`` itself).

The two small tests after it show the checks can fail: an error element is caught, and a save
that is not in the workspace counts as lost.
"""
from __future__ import annotations

import time

import pytest

from benchmarks import load

PAGES = ["overview", "wetlands", "protection"]


def test_sessions_read_while_officers_save(tmp_path):
    until = time.monotonic() + 300
    with load.streamlit_server(tmp_path) as (base, ws_dir):
        s = load.run_load(base, ws_dir, sessions=4, rounds=1, writers=2, pages=PAGES, until=until)
    load.print_summary(s)
    assert s["warm_errors"] == 0, s["error_messages"]
    assert s["errors"] == 0, s["error_messages"]
    assert s["unfinished"] == 0, s["error_messages"]
    assert s["page_loads"] == s["page_loads_ok"] == 4 * len(PAGES)
    assert all(p["loads"] == 4 for p in s["per_page"].values()), s["per_page"]
    assert s["health_ok"]
    assert s["saves"] >= 1, "the officers saved nothing: the sessions did not read under writes"
    assert s["verify_problems"] == []
    assert s["versions_lost"] == 0 and s["rows_lost"] == 0
    assert s["versions_present"] >= s["saves"]
    assert not load.failed(s)


def test_error_elements_are_errors():
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.Delta_pb2 import Delta

    d = Delta()
    d.new_element.exception.type = "ZeroDivisionError"
    d.new_element.exception.message = "division by zero"
    assert load._element_error(d) == "exception ZeroDivisionError: division by zero"
    d = Delta()
    d.new_element.alert.format = Alert.ERROR
    d.new_element.alert.body = "the workspace is locked"
    assert load._element_error(d) == "st.error: the workspace is locked"
    d.new_element.alert.format = Alert.WARNING
    assert load._element_error(d) is None


def test_a_missing_save_counts_as_lost(tmp_path):
    from geodata.store import Workspace

    ws = Workspace(tmp_path / load.WORKSPACE_FILE)
    info = ws.save(load.LAYER, load._base_layer(3), author="officer-1", reason="first").info
    real = {"version": info.version, "features": 3, "sha256": info.sha256, "author": "officer-1"}
    ghost = dict(real, version=2)  # acknowledged, never stored
    forged = dict(real, sha256="0" * 64)  # stored content differs from what was acknowledged
    check = load.check_workspace(tmp_path, [real])
    assert check == {"verify_problems": [], "versions_present": 1, "versions_lost": [], "rows_lost": 0}
    check = load.check_workspace(tmp_path, [real, ghost, forged])
    assert check["versions_lost"] == [2, 1] and check["rows_lost"] == 6


@pytest.mark.parametrize("page, name, query", [("overview", "overview", ""), ("explorer?area=district:pukou", "explorer", "area=district:pukou")])
def test_rerun_message_names_the_page(page, name, query):
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.ParseFromString(load._rerun_msg(page))
    assert msg.WhichOneof("type") == "rerun_script"
    assert (msg.rerun_script.page_name, msg.rerun_script.query_string, msg.rerun_script.page_script_hash) == (name, query, "")
