"""The free layers that the thickness and spin-profile studies compare (one table for both).

Spin-averaged band bottom U (``potential``) and exchange Δ (``exchange``) in eV; None keeps
the bundled file's value (the Fe-like free layer of ``fifn_2nm``).
"""

FREE_LAYERS = {
    "weak": dict(label="weak ferromagnet", potential=0.0, exchange=1.5, color="C0"),
    "strong": dict(label="strong ferromagnet (Fe-like)", potential=None, exchange=None,
                   color="C3"),
    "half_metal": dict(label="half-metal (minority band closed)", potential=1.5, exchange=3.0,
                       color="C2"),
}
