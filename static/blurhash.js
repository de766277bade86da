/* Gapo's blurhash decoder: paints the blurred placeholder of a photo while it loads.
 *
 * A blurhash (https://blurha.sh, the format Mastodon sends) is a short base-83 string: one
 * character for the number of components, one for the largest AC amplitude, four for the
 * DC term (the average colour, sRGB), then two characters per AC component, each holding
 * three quantised channels. Decoding sums the cosine basis functions in linear light and
 * converts back to sRGB. A 32x32 canvas is enough: CSS scales it up and the picture is a
 * blur anyway (at 32x32 with 4x3 components a decode is ~12 000 multiply-adds).
 *
 * Exposes window.GapoBlurhash = { decode, average, paint }. No dependencies.
 */
(function () {
  "use strict";

  var DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function base83(text, start, end) {
    var value = 0;
    for (var i = start; i < end; i++) {
      var digit = DIGITS.indexOf(text.charAt(i));
      if (digit < 0) {
        throw new Error("not a blurhash");
      }
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(channel) {
    var v = channel / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  function toSrgb(linear) {
    var v = Math.max(0, Math.min(1, linear));
    var encoded = v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
    return Math.round(encoded * 255);
  }

  function signedSquare(value) {
    return value < 0 ? -(value * value) : value * value;
  }

  // The components of a hash: [[r, g, b] in linear light, ...], DC first; throws when invalid.
  function components(hash) {
    if (typeof hash !== "string" || hash.length < 6) {
      throw new Error("not a blurhash");
    }
    var sizeFlag = base83(hash, 0, 1);
    var numX = (sizeFlag % 9) + 1;
    var numY = Math.floor(sizeFlag / 9) + 1;
    if (hash.length !== 4 + 2 * numX * numY) {
      throw new Error("not a blurhash");
    }
    var maxValue = (base83(hash, 1, 2) + 1) / 166;
    var dc = base83(hash, 2, 6);
    var colours = [[toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]];
    for (var i = 1; i < numX * numY; i++) {
      var ac = base83(hash, 4 + i * 2, 6 + i * 2);
      colours.push([
        signedSquare((Math.floor(ac / 361) - 9) / 9) * maxValue,
        signedSquare(((Math.floor(ac / 19) % 19) - 9) / 9) * maxValue,
        signedSquare(((ac % 19) - 9) / 9) * maxValue,
      ]);
    }
    return { numX: numX, numY: numY, colours: colours };
  }

  // RGBA pixels (Uint8ClampedArray, width*height*4) of the decoded picture.
  function decode(hash, width, height) {
    var parts = components(hash);
    var pixels = new Uint8ClampedArray(width * height * 4);
    // The horizontal and vertical cosines are each computed once, not once per pixel.
    var cosX = [];
    var cosY = [];
    var x, y, i, j;
    for (i = 0; i < parts.numX; i++) {
      for (x = 0; x < width; x++) {
        cosX.push(Math.cos((Math.PI * x * i) / width));
      }
    }
    for (j = 0; j < parts.numY; j++) {
      for (y = 0; y < height; y++) {
        cosY.push(Math.cos((Math.PI * y * j) / height));
      }
    }
    for (y = 0; y < height; y++) {
      for (x = 0; x < width; x++) {
        var r = 0;
        var g = 0;
        var b = 0;
        for (j = 0; j < parts.numY; j++) {
          for (i = 0; i < parts.numX; i++) {
            var basis = cosX[i * width + x] * cosY[j * height + y];
            var colour = parts.colours[i + j * parts.numX];
            r += colour[0] * basis;
            g += colour[1] * basis;
            b += colour[2] * basis;
          }
        }
        var at = 4 * (x + y * width);
        pixels[at] = toSrgb(r);
        pixels[at + 1] = toSrgb(g);
        pixels[at + 2] = toSrgb(b);
        pixels[at + 3] = 255;
      }
    }
    return pixels;
  }

  // The average colour as "rgb(r, g, b)" (the DC term), or null for an invalid hash.
  function average(hash) {
    if (typeof hash !== "string" || hash.length < 6) {
      return null;
    }
    try {
      var dc = base83(hash, 2, 6);
      return "rgb(" + (dc >> 16) + ", " + ((dc >> 8) & 255) + ", " + (dc & 255) + ")";
    } catch (err) {
      return null;
    }
  }

  // Paints `hash` on `canvas` (its own width and height); false when the hash is invalid.
  function paint(canvas, hash) {
    var context = canvas.getContext && canvas.getContext("2d");
    if (!context) {
      return false;
    }
    var width = canvas.width || 32;
    var height = canvas.height || 32;
    try {
      var image = context.createImageData(width, height);
      image.data.set(decode(hash, width, height));
      context.putImageData(image, 0, 0);
      return true;
    } catch (err) {
      return false;
    }
  }

  window.GapoBlurhash = { decode: decode, average: average, paint: paint };
})();
