"""Scoring: each country's credit rules and the decisions they make on submitted applications."""
