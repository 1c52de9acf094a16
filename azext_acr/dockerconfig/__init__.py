"""dockerconfig"""
