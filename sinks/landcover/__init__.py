"""Land cover from imagery: spectral indices, classification (rules and supervised), accuracy
assessment and stratified area estimation (Olofsson et al. 2014)."""
