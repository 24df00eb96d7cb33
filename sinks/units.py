"""Unit conversions, in one place. Display units (万吨, kt) live in ``ui/``."""
from __future__ import annotations

C_TO_CO2 = 44.0 / 12.0  # molar mass ratio CO2 : C (IPCC 2006 Vol.4 Ch.2 Eq. 2.16 uses 44/12)
M2_PER_HA = 10_000.0
T_PER_KT = 1_000.0  # kilotonne = Gg
T_PER_WAN_T = 10_000.0  # 万吨 (ten thousand tonnes), the usual unit of Chinese statistics
T_PER_MT = 1_000_000.0  # megatonne = Tg


def tc_to_tco2e(tc: float) -> float:
    """Tonnes of carbon to tonnes of CO2 (the 44/12 factor)."""
    return tc * C_TO_CO2


def m2_to_ha(m2: float) -> float:
    return m2 / M2_PER_HA
