#include "query/input/text_embedder.h"

namespace mosaic::query {

TextEmbedder EncoderTextEmbedder(std::shared_ptr<embed::Encoder> encoder) {
  return
      [encoder](const std::vector<std::string>& texts) -> Result<std::vector<std::vector<float>>> {
        std::vector<embed::EncoderInput> in(texts.size());
        for (size_t i = 0; i < texts.size(); ++i)
          in[i].text = texts[i];
        MOSAIC_ASSIGN_OR_RETURN(auto out, encoder->Encode(in));
        std::vector<std::vector<float>> vectors(texts.size());
        for (size_t i = 0; i < out.size() && i < texts.size(); ++i)
          if (!out[i].vectors.empty()) vectors[i] = std::move(out[i].vectors[0]);
        return vectors;
      };
}

}  // namespace mosaic::query
