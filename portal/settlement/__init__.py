"""Monthly labour-fee settlement (SPEC 8). So far: the settlement row and its states (the
reports module asks whether a station's month is still open for amendments) and the one
adjustments table of rewards, penalties and deductions (`adjustments.record_adjustment`)."""
