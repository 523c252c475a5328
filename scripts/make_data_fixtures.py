#!/usr/bin/env python3
"""Writes the data-source fixtures under Tests/NeuralNetworksTests/Fixtures/data/ with the tools
users have: NumPy (np.save, np.lib.format.write_array, np.savez, np.savez_compressed) and
Python's csv module, with expected.json saying what each file holds.

    python scripts/make_data_fixtures.py      (any Python with numpy; scripts/peers.sh makes one)
"""
import csv
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NeuralNetworksTests", "Fixtures", "data")
os.makedirs(OUT, exist_ok=True)
expected = {}

# One (3, 2, 2) array of small whole numbers in every element type NumPy users save.
base = np.arange(12).reshape(3, 2, 2)
for dtype in ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
              "float16", "float32", "float64"]:
    array = (base % 2).astype(dtype) if dtype == "bool" else (base - 4).astype(dtype) if dtype.startswith("i") or dtype.startswith("f") else base.astype(dtype)
    np.save(os.path.join(OUT, f"x_{dtype}.npy"), array)
    expected[f"x_{dtype}.npy"] = {"shape": list(array.shape), "values": [float(v) for v in array.reshape(-1)]}

fractions = (np.arange(12).reshape(3, 2, 2) / 8 - 0.5).astype(np.float32)
variants = {
    "x_big_endian.npy": (fractions.astype(">f4"), None),
    "x_fortran.npy": (np.asfortranarray(fractions), None),
    "x_version2.npy": (fractions, (2, 0)),
    "x_version3.npy": (fractions, (3, 0)),
}
for name, (array, version) in variants.items():
    with open(os.path.join(OUT, name), "wb") as f:
        np.lib.format.write_array(f, array, version=version)
    expected[name] = {"shape": list(array.shape), "values": [float(v) for v in fractions.reshape(-1)]}

# A .npz of a small classification set, stored and deflated.
x_train = (np.arange(24).reshape(6, 4) / 10).astype(np.float32)
y_train = np.array([0, 1, 2, 0, 1, 2], dtype=np.int64)
x_test = (np.arange(8).reshape(2, 4) / 5).astype(np.float32)
y_test = np.array([2, 0], dtype=np.int64)
np.savez(os.path.join(OUT, "arrays.npz"), x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
np.savez_compressed(os.path.join(OUT, "arrays_compressed.npz"), x_train=x_train, y_train=y_train,
                    x_test=x_test, y_test=y_test)
expected["arrays.npz"] = {name: {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}
                          for name, a in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test),
                                          ("y_test", y_test)]}

# A CSV table: numeric features, a text target (one class name quoted, with a comma), as csv writes it.
rows = [[1.5, -2, "setosa"], [0.25, 3, "big, red"], [4, 1e-3, "setosa"], [-1, 0, "virginica"]]
with open(os.path.join(OUT, "table.csv"), "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["length", "width", "species"])
    writer.writerows(rows)
expected["table.csv"] = {"features": [float(v) for r in rows for v in r[:2]],
                         "classes": sorted({r[2] for r in rows}),
                         "labels": [sorted({r[2] for r in rows}).index(r[2]) for r in rows]}

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
