// WebP through libwebp; animated files decode their first frame through libwebpdemux.
#include <webp/decode.h>
#include <webp/demux.h>

#include <string>

#include "media/image_codecs.h"

namespace mosaic::media::internal {

namespace {

const char* Vp8StatusText(VP8StatusCode code) {
  switch (code) {
    case VP8_STATUS_OK:
      return "ok";
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
      return "suspended";
    case VP8_STATUS_USER_ABORT:
      return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "not enough data (truncated file?)";
  }
  return "unknown error";
}

Status DecodeFirstAnimationFrame(const WebPData& data, Image* out) {
  WebPAnimDecoderOptions opts;
  WebPAnimDecoderOptionsInit(&opts);
  opts.color_mode = MODE_RGBA;
  opts.use_threads = 0;
  WebPAnimDecoder* dec = WebPAnimDecoderNew(&data, &opts);
  if (dec == nullptr) return Status::Corruption("corrupt WebP: cannot parse the animation");
  WebPAnimInfo info;
  uint8_t* frame = nullptr;
  int timestamp = 0;
  bool ok = WebPAnimDecoderGetInfo(dec, &info) && WebPAnimDecoderGetNext(dec, &frame, &timestamp);
  if (ok) {
    *out = Image(static_cast<int>(info.canvas_width), static_cast<int>(info.canvas_height));
    CompositeOverWhite(frame, static_cast<size_t>(out->width) * out->height, out->pixels.data());
  }
  WebPAnimDecoderDelete(dec);
  if (!ok) return Status::Corruption("corrupt WebP: cannot decode the first animation frame");
  return Status::OK();
}

}  // namespace

Status ReadWebp(std::span<const uint8_t> bytes, const DecodeOptions& options, Header* header,
                Image* out) {
  WebPBitstreamFeatures features;
  VP8StatusCode code = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (code != VP8_STATUS_OK)
    return Status::Corruption(std::string("corrupt WebP: ") + Vp8StatusText(code));
  header->width = features.width;
  header->height = features.height;
  WebPData data{bytes.data(), bytes.size()};
  if (WebPDemuxer* demux = WebPDemux(&data)) {
    WebPChunkIterator it;
    if (WebPDemuxGetChunk(demux, "EXIF", 1, &it)) {
      header->exif.assign(it.chunk.bytes, it.chunk.bytes + it.chunk.size);
      WebPDemuxReleaseChunkIterator(&it);
    }
    WebPDemuxDelete(demux);
  }
  if (out == nullptr) return Status::OK();
  MOSAIC_RETURN_IF_ERROR(CheckPixelLimit(features.width, features.height, options));
  if (features.has_animation) return DecodeFirstAnimationFrame(data, out);

  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return Status::Internal("libwebp version mismatch");
  std::vector<uint8_t> rgba;
  *out = Image(features.width, features.height);
  WebPRGBABuffer& buf = config.output.u.RGBA;
  config.output.is_external_memory = 1;
  if (features.has_alpha) {
    rgba.resize(out->pixels.size() / 3 * 4);
    config.output.colorspace = MODE_RGBA;
    buf = {rgba.data(), features.width * 4, rgba.size()};
  } else {
    config.output.colorspace = MODE_RGB;
    buf = {out->pixels.data(), features.width * 3, out->pixels.size()};
  }
  code = WebPDecode(bytes.data(), bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);  // frees nothing external; required by the API
  if (code != VP8_STATUS_OK)
    return Status::Corruption(std::string("corrupt WebP: ") + Vp8StatusText(code));
  if (features.has_alpha)
    CompositeOverWhite(rgba.data(), static_cast<size_t>(out->width) * out->height,
                       out->pixels.data());
  return Status::OK();
}

}  // namespace mosaic::media::internal
