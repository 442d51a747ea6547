"""What torchvision's segmentation models share: a classification network cut after the
stages whose feature maps the heads read, and the model that runs the heads and scales
their scores back to the input's size.

    backbone = IntermediateLayerGetter(resnet50(replace_stride_with_dilation=[False,
                                                True, True]),
                                       {"layer4": "out", "layer3": "aux"})
    model = SimpleSegmentationModel(backbone, DeepLabHead(2048, 21), FCNHead(1024, 21))
    model(x)   # {"out": (N, 21, H, W), "aux": (N, 21, H, W)}

``IntermediateLayerGetter`` keeps the network's children in order up to the last one
named in ``return_layers`` (the pooling and the classifier of a ResNet are dropped), under
their own names, so the state_dict keys are ``backbone.conv1.weight``,
``backbone.layer4.2.bn3.running_var``, ... exactly as torchvision's.

``vgg16_features()`` is VGG-16's convolutional part (``features``) for the networks of
the papers that build on it (FCN, hypercolumns), without the 124M-parameter classifier
that ``vgg16()`` would build and initialize only for it to be dropped.
"""
from collections import OrderedDict

from ... import nn
from ...nn import functional as F
from ..vgg import CONFIGS, make_layers


class IntermediateLayerGetter(nn.ModuleDict):
    """The children of ``model`` up to the last of ``return_layers`` ({child name: output
    name}); ``forward`` returns {output name: that child's output} (an OrderedDict)."""

    def __init__(self, model, return_layers):
        names = [name for name, _ in model.named_children()]
        if not set(return_layers).issubset(names):
            missing = sorted(set(return_layers) - set(names))
            raise ValueError(f"return_layers: {missing} are not children of the model ({names})")
        remaining = dict(return_layers)
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            remaining.pop(name, None)
            if not remaining:
                break
        super().__init__(layers)
        self.return_layers = dict(return_layers)

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


class SimpleSegmentationModel(nn.Module):
    """features = backbone(x); out = classifier(features["out"]) and, when there is an
    auxiliary classifier, aux = aux_classifier(features["aux"]), each resized bilinearly
    (align_corners=False) to the input's H x W. Returns {"out"[, "aux"]}."""

    def __init__(self, backbone, classifier, aux_classifier=None):
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x):
        size = x.shape[-2:]
        features = self.backbone(x)
        result = OrderedDict()
        result["out"] = F.interpolate(self.classifier(features["out"]), size=size,
                                      mode="bilinear", align_corners=False)
        if self.aux_classifier is not None:
            result["aux"] = F.interpolate(self.aux_classifier(features["aux"]), size=size,
                                          mode="bilinear", align_corners=False)
        return result


def dilated_return_layers(aux):
    """{"layer4": "out"} plus {"layer3": "aux"} when the auxiliary head is wanted."""
    return_layers = {"layer4": "out"}
    if aux:
        return_layers["layer3"] = "aux"
    return return_layers


def vgg16_features():
    """torchvision's ``vgg16().features`` (same modules, names and initialization: He
    normal, fan_out, for the convolutions, zero biases), built alone."""
    features = make_layers(CONFIGS["D"])
    for module in features:
        if isinstance(module, nn.Conv2d):  # as VGG(init_weights=True) initializes them
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(module.bias, 0)
    return features
