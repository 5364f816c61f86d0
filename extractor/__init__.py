"""Extraction pipeline for scanned 项目支出绩效自评表 forms: see extractor/pipeline.py."""
__version__ = '0.1.0'
