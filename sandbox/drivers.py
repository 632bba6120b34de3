"""Made-up drivers and vehicles that look like a Jakarta fleet."""

from __future__ import annotations

import random
import string

FIRST_NAMES = (
    "Agus", "Budi", "Dedi", "Eko", "Joko", "Rudi", "Slamet", "Andi", "Hendra", "Yusuf",
    "Ahmad", "Rahmat", "Wahyu", "Bambang", "Iwan", "Dian", "Rizky", "Fajar", "Teguh", "Asep",
    "Siti", "Dewi", "Sri", "Rina", "Nur", "Ratna", "Lestari", "Yuni", "Fitri", "Indah",
)  # fmt: skip
LAST_NAMES = (
    "Santoso", "Setiawan", "Kurniawan", "Hartono", "Prasetyo", "Susilo", "Wijaya", "Gunawan",
    "Hidayat", "Fauzi", "Nugroho", "Sutrisno", "Setiadi", "Permana", "Ramadhan", "Nugraha",
    "Saputra", "Siregar", "Nasution", "Simanjuntak", "Rahayu", "Lestari", "Wahyuni", "Marlina",
    "Pratiwi", "Handayani", "Sulistyo", "Firmansyah", "Maulana", "Hakim",
)  # fmt: skip
VEHICLES = {
    "car": (
        ("Toyota", "Avanza"), ("Daihatsu", "Xenia"), ("Honda", "Brio"), ("Toyota", "Calya"),
        ("Daihatsu", "Sigra"), ("Toyota", "Agya"), ("Daihatsu", "Ayla"), ("Honda", "Mobilio"),
        ("Suzuki", "Ertiga"), ("Toyota", "Vios"),
    ),
    "car_xl": (
        ("Toyota", "Kijang Innova"), ("Mitsubishi", "Xpander"), ("Suzuki", "Ertiga"),
        ("Toyota", "Avanza Veloz"), ("Wuling", "Confero"), ("Honda", "BR-V"),
    ),
    "bike": (
        ("Honda", "Vario 125"), ("Honda", "Beat"), ("Yamaha", "NMAX"), ("Yamaha", "Mio M3"),
        ("Honda", "Scoopy"), ("Yamaha", "Aerox"),
    ),
}  # fmt: skip
COLORS = ("Putih", "Hitam", "Silver", "Abu-abu", "Merah", "Biru Tua")


def make_driver(rng: random.Random, product_id: str) -> tuple[dict, dict]:
    """A driver ({name, phone_masked, rating}) and their vehicle for ``product_id``."""
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    prefix = rng.choice(("812", "813", "821", "822", "852", "857", "878", "896"))
    phone = f"+62 {prefix}-****-{rng.randint(0, 9999):04d}"
    driver = {"name": name, "phone_masked": phone, "rating": round(rng.uniform(4.6, 5.0), 2)}
    make, model = rng.choice(VEHICLES.get(product_id, VEHICLES["car"]))
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.choice((2, 3))))
    plate = f"B {rng.randint(1000, 9999)} {letters}"
    vehicle = {"make": make, "model": model, "color": rng.choice(COLORS), "license_plate": plate}
    return driver, vehicle
