"""The public sink explorer: a card for any area (a district, a planning unit, a wetland site, a
red line, or a drawn / uploaded polygon), its peers and plain-language equivalents
(:mod:`sinks.explorer.card`, :mod:`sinks.explorer.equivalents`), and its pictures
(:mod:`sinks.explorer.frames`)."""
