"""Each erasure's results in the ledger beside the records (records/erasure_ledger.py), which a restore
reads to make it again: their random ids only, flushed before the erasure returns, readable after a
line a power cut tore."""

from __future__ import annotations

import stat

from firmware_app.records.erasure_ledger import ErasureEntry, ledger_path, read_ledger
from firmware_app.records.outbox import Outbox
from tests.records.kit import open_store, small_photo
from tests.records.test_erasure_requests import patient_screenings


def test_each_erasure_names_its_results_whose_it_was_and_those_asked_of_the_station_and_no_patient(tmp_path):
    store = open_store(tmp_path)
    sent, unsent = patient_screenings(store, small_photo(), "MRN-LEDGER-1", 2)
    (other,) = patient_screenings(store, small_photo(), "MRN-LEDGER-2", 1)
    outbox = Outbox(store.records)
    claimed = {row.result_id: row.seq for row in outbox.claim(0, 10)}
    outbox.mark_sent([claimed[sent]])
    outbox.release([claimed[unsent], claimed[other]])
    store.erase_patient("MRN-LEDGER-1")
    store.erase_erased_at_the_station([other])
    store.erase_patient("MRN-NOBODY")  # matched nothing: nothing to make again
    path = ledger_path(tmp_path / "records.sqlite3")
    assert read_ledger(path) == [ErasureEntry((sent, unsent), (sent,)), ErasureEntry((other,), (), True)]
    assert b"MRN" not in path.read_bytes() and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_line_a_power_cut_tore_leaves_the_erasures_after_it_whole(tmp_path):
    store = open_store(tmp_path)
    patient_screenings(store, small_photo(), "MRN-TORN-1", 1)
    (second,) = patient_screenings(store, small_photo(), "MRN-TORN-2", 1)
    store.erase_patient("MRN-TORN-1")
    path = ledger_path(tmp_path / "records.sqlite3")
    path.write_bytes(path.read_bytes()[:-9])  # the end of the first line never reached the card
    store.erase_patient("MRN-TORN-2")
    assert read_ledger(path) == [ErasureEntry((second,))]  # the first one's is in the audit log alone
