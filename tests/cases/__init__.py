"""Registries of layer and op cases: one line of data gives a case every cross-cutting test."""
