"""Monthly labour-fee settlement (SPEC 8). Only the settlement row and its states exist yet;
the reports module asks it whether a station's month is still open for amendments."""
