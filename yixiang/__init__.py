"""Yixiang (意向): a sales CRM built on the intent-lifting method."""

__version__ = "0.1.0"
