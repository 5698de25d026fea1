"""Flask service that collects TikTok user profiles into SQL and serves them back."""

from __future__ import annotations
