"""Greening and forest coverage for planners (action plan items 12 and 14).

Indicators per unit and date (绿化覆盖率, 森林覆盖率, NDVI vegetation classes, park service
coverage), their uncertainty (classification accuracy, point-sample checks), targets and
progress, and candidate land for planting. The orchestrator is
:func:`sinks.greening.assess.greening_assessment`; the command line is ``python -m sinks greening``.
"""
