"""An independent PNG reader in Python's standard library, for tests/charts/png_test.ts: checks the
signature and every chunk's CRC, inflates IDAT with zlib (which checks Adler-32), undoes all five
row filters, and prints the header, chunk names and pixels as JSON. Reads the PNG on stdin."""
import json, struct, sys, zlib
data = sys.stdin.buffer.read()
assert data[:8] == bytes([137, 80, 78, 71, 13, 10, 26, 10]), "bad signature"
pos, idat, chunks, crc_ok = 8, b"", [], True
while pos < len(data):
    (length,) = struct.unpack(">I", data[pos:pos + 4])
    kind = data[pos + 4:pos + 8]
    body = data[pos + 8:pos + 8 + length]
    (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
    crc_ok = crc_ok and crc == (zlib.crc32(kind + body) & 0xFFFFFFFF)
    chunks.append(kind.decode())
    if kind == b"IHDR":
        width, height, depth, color = struct.unpack(">IIBB", body[:10])
    if kind == b"IDAT":
        idat += body
    pos += 12 + length
channels = {0: 1, 2: 3}[color]
raw = zlib.decompress(idat)
stride = width * channels
pixels, prev = [], [0] * stride
for y in range(height):
    f = raw[y * (stride + 1)]
    line = list(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - channels] if i >= channels else 0
        b, c = prev[i], prev[i - channels] if i >= channels else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    pixels += line
    prev = line
print(json.dumps({"width": width, "height": height, "depth": depth, "color": color,
                  "chunks": chunks, "crc_ok": crc_ok, "pixels": pixels}))
