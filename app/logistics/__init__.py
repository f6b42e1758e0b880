"""Delivery: carriers and their tracking numbers, shipping templates (运费模板), tracking pushes, signing for."""
