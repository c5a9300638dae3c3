"""Reads an image as grey levels through `convert FILE ppm:-` (the bench
scripts' one image reader; standard library only)."""
import subprocess


def read_grey(path):
    """(width, height, grey) with grey a row-major list of floats on 0-255:
    the mean of the channels, rescaled from the file's maxval."""
    data = subprocess.run(["convert", path, "ppm:-"], check=True, capture_output=True).stdout
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval; '#' comments skipped
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if pos >= len(data):
            raise ValueError(f"{path}: truncated PNM header")
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic not in (b"P5", b"P6"):
        raise ValueError(f"{path}: expected a binary PGM or PPM from convert, got {magic!r}")
    ch = 3 if magic == b"P6" else 1
    size = 2 if maxval > 255 else 1
    px = data[pos:pos + width * height * ch * size]
    if len(px) < width * height * ch * size:
        raise ValueError(f"{path}: truncated pixel data")
    if size == 2:
        values = [px[i] << 8 | px[i + 1] for i in range(0, len(px), 2)]
    else:
        values = px
    scale = 255.0 / maxval
    return width, height, [sum(values[i * ch:(i + 1) * ch]) / ch * scale for i in range(width * height)]
