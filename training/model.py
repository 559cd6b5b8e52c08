"""Small CTC acoustic model: conv subsampling x4 + residual depthwise-separable
1-D conv blocks + linear to the vocabulary, log-softmax output."""
import torch
import torch.nn as nn

VOCAB = ["▁zero", "▁one", "▁two", "▁three", "▁four", "▁five", "▁six", "▁seven", "▁eight", "▁nine", "<blk>"]
BLANK = len(VOCAB) - 1


class Block(nn.Module):
    def __init__(self, c: int, k: int, dilation: int, dropout: float):
        super().__init__()
        self.dw = nn.Conv1d(c, c, k, padding=dilation * (k // 2), dilation=dilation, groups=c, bias=False)
        self.bn1 = nn.BatchNorm1d(c)
        self.pw = nn.Conv1d(c, c, 1, bias=False)
        self.bn2 = nn.BatchNorm1d(c)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        y = self.act(self.bn1(self.dw(x)))
        y = self.drop(self.act(self.bn2(self.pw(y))))
        return (x + y) * mask


class DigitsCTC(nn.Module):
    def __init__(self, n_mels=80, channels=192, n_blocks=7, kernel=11, dropout=0.1, vocab=len(VOCAB)):
        super().__init__()
        c = channels
        self.sub1 = nn.Sequential(nn.Conv1d(n_mels, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm1d(c), nn.ReLU())
        self.sub2 = nn.Sequential(nn.Conv1d(c, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm1d(c), nn.ReLU())
        dil = [1, 1, 2, 1, 2, 1, 1, 2, 1, 1][:n_blocks]
        self.blocks = nn.ModuleList([Block(c, kernel, d, dropout) for d in dil])
        self.out = nn.Conv1d(c, vocab, 1)

    @staticmethod
    def out_lengths(length):
        # conv k=3, s=2, p=1 twice: ceil(ceil(L/2)/2) == ceil(L/4)
        return torch.div(length + 3, 4, rounding_mode="floor")

    def forward(self, audio_signal, length):
        """audio_signal [N, 80, T] float, length [N] int64 ->
        logprobs [N, T', V], encoded_lengths [N], T' = ceil(T/4)."""
        x = self.sub2(self.sub1(audio_signal))
        enc_len = self.out_lengths(length)
        t = torch.arange(x.shape[2], device=x.device).unsqueeze(0)
        mask = (t < enc_len.unsqueeze(1)).unsqueeze(1).to(x.dtype)
        x = x * mask
        for b in self.blocks:
            x = b(x, mask)
        logits = self.out(x).transpose(1, 2)
        return torch.log_softmax(logits, dim=-1), enc_len
