"""Spare parts and deposits (SPEC 7). So far: the deposit ledger."""
