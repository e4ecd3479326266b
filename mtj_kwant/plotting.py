"""Figures of sweep and profile results (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_sweep", "plot_profile"]


def _figure(nrows, ncols, size):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=size, constrained_layout=True)


def _save(fig, path):
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=130)
    return fig


def plot_sweep(result, path=None):
    """J(V) and the window torques T∥(V), T⊥(V) of a :class:`SweepResult`."""
    fig, (ax1, ax2) = _figure(1, 2, (9, 3.6))
    v = np.asarray(result.bias_V)
    order = np.argsort(v)
    v = v[order]
    j = np.asarray(result.current_density)[order]
    errors = getattr(result, "errors", None) or {}

    def bars(key):  # the error estimate of a list (finite ones drawn; None without)
        e = errors.get(key)
        if e is None or len(e) != len(order):
            return None
        e = np.asarray(e, float)[order]
        return np.where(np.isfinite(e), e, 0.0) / 1e9

    ax1.errorbar(v, j / 1e9, yerr=bars("current_density"), fmt="o-", color="k", ms=3,
                 capsize=2)
    ax1.set_xlabel("bias V (V)")
    ax1.set_ylabel(r"current density $J$ ($10^9$ A/m$^2$)")
    ax1.axhline(0, color="0.8", lw=0.8)
    for key, label, color in (
        ("torque_inplane_window", r"$T_\parallel$ (window)", "C0"),
        ("torque_outofplane_window", r"$T_\perp$ (window)", "C3"),
        ("torque_inplane_total", r"$T_\parallel$ (total)", "C0"),
        ("torque_outofplane_total", r"$T_\perp$ (total)", "C3"),
    ):
        values = getattr(result, key, None)
        if not values:
            continue
        style = "o-" if key.endswith("window") else "s--"
        ax2.errorbar(v, np.asarray(values, float)[order] / 1e9, yerr=bars(key), fmt=style,
                     color=color, ms=3, capsize=2, label=label)
    ax2.axhline(0, color="0.8", lw=0.8)
    ax2.set_xlabel("bias V (V)")
    ax2.set_ylabel(r"torque ($10^9\,(\hbar/2e)$ A/m$^2$)")
    ax2.legend(frameon=False)
    from matplotlib.ticker import MaxNLocator

    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(6))
    name = result.junction.get("name", "")
    fig.suptitle(f"{name}  (θ = {result.theta_deg:g}°, T = {result.temperature_K:g} K)",
                 fontsize=9)
    return _save(fig, path)


def plot_profile(result, path=None):
    """Spin density, spin current and torque density of a :class:`ProfileResult`."""
    fig, axes = _figure(3, 1, (7, 7.5))
    x = np.asarray(result.x_nm)
    xb = np.asarray(result.bond_x_nm)
    labels = ("x", "y", "z")
    data = (
        (x, np.asarray(result.spin_density), r"spin density ($\langle\sigma\rangle$/nm$^3$)"),
        (xb, np.asarray(result.spin_current) / 1e9, r"spin current ($10^9\,(\hbar/2e)$ A/m$^2$)"),
        (x, np.asarray(result.torque_density) / 1e9, r"torque density ($10^9\,(\hbar/2e)$ A/m$^2$ per site)"),
    )
    free = np.asarray(result.free_sites, bool)
    for ax, (xx, yy, ylabel) in zip(axes, data):
        for i in range(3):
            ax.plot(xx, yy[:, i], label=labels[i], lw=1.2)
        if free.any():
            ax.axvspan(x[free].min(), x[free].max(), color="0.92", zorder=0)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.axhline(0, color="0.8", lw=0.8)
    axes[0].legend(frameon=False, ncol=3, title="component")
    axes[-1].set_xlabel("position x (nm)")
    fig.suptitle(f"{result.junction.get('name', '')}  V = {result.bias_V:g} V, "
                 f"θ = {result.theta_deg:g}° (free layer shaded)", fontsize=9)
    return _save(fig, path)
