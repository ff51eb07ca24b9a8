"""Coachbot (销售教练): sales coaching for telecom group-customer and VIP account managers."""

__version__ = "0.1.0"
